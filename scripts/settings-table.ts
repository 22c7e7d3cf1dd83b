/**
 * Prints the settings reference (every option, its default, unit, range and meaning) as a
 * Markdown table, from the settings schema. `--write` puts it into README.md between the
 * settings markers; a test keeps the README in step with the schema.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsTable, SETTINGS_BEGIN, SETTINGS_END } from '../src/shared/settings-doc';

const table = settingsTable();
if (process.argv.includes('--write')) {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf(SETTINGS_BEGIN);
  const end = readme.indexOf(SETTINGS_END);
  if (start < 0 || end < start)
    throw new Error(`README.md has no ${SETTINGS_BEGIN} ... ${SETTINGS_END} block`);
  writeFileSync(
    'README.md',
    `${readme.slice(0, start + SETTINGS_BEGIN.length)}\n${table}\n${readme.slice(end)}`,
  );
} else {
  console.log(table);
}
