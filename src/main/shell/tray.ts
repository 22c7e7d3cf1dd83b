/**
 * The tray icon: glue between Electron's Tray/Menu and the pure decisions of tray-state.ts.
 * Its icon and tooltip follow the app core's `state` events; its menu actions are handed back
 * to the shell (src/main/index.ts), which maps them onto contract requests.
 */
import { join } from 'node:path';
import { Menu, Tray, nativeImage, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import type { AppState } from '../../shared/contract';
import { TRAY_ICONS, trayIcon, trayMenu, trayTooltip, type TrayAction, type TrayIcon } from './tray-state';

export interface AppTray {
  update(state: AppState): void;
  destroy(): void;
}

/** `iconDir` holds <status>.png and <status>@2x.png (resources/tray). */
export function createAppTray(options: {
  iconDir: string;
  initial: AppState;
  onAction(action: TrayAction): void;
}): AppTray {
  const images = new Map<TrayIcon, NativeImage>();
  for (const name of TRAY_ICONS)
    images.set(name, nativeImage.createFromPath(join(options.iconDir, `${name}.png`)));
  const tray = new Tray(images.get(trayIcon(options.initial))!);
  // Windows and Linux: a click on the icon shows the window (macOS opens the menu).
  tray.on('click', () => options.onAction('show'));

  let shown: { icon: TrayIcon; tooltip: string; menu: string } | undefined;
  const update = (state: AppState): void => {
    const icon = trayIcon(state);
    const tooltip = trayTooltip(state);
    const items = trayMenu(state);
    const menu = JSON.stringify(items);
    if (shown?.icon !== icon) tray.setImage(images.get(icon)!);
    if (shown?.tooltip !== tooltip) tray.setToolTip(tooltip);
    // Linux only picks up menu changes through a new context menu.
    if (shown?.menu !== menu) {
      const template: MenuItemConstructorOptions[] = items.map((item) =>
        item.type === 'separator'
          ? { type: 'separator' }
          : {
              type: item.type,
              label: item.label,
              enabled: item.enabled,
              ...(item.type === 'checkbox' ? { checked: item.checked } : {}),
              click: () => options.onAction(item.action),
            },
      );
      tray.setContextMenu(Menu.buildFromTemplate(template));
    }
    shown = { icon, tooltip, menu };
  };

  update(options.initial);
  return { update, destroy: () => tray.destroy() };
}
