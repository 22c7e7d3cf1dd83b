/**
 * The Smart Turn worker thread: loads the model with SmartTurnModel.load (the same code, the same
 * single-threaded onnxruntime session) and answers predictions, so that the log-mel features
 * (~5 ms) and the inference (~30 ms for the real model) never hold the main thread's event loop.
 * onnxruntime-node runs a session synchronously (inside a setImmediate): on the main thread audio
 * frames, IPC and timers would wait for it; here only this thread does.
 *
 * Started by SmartTurnWorkerDetector (smart-turn-worker-client.ts) with `workerData` =
 * SmartTurnWorkerData. The protocol, one message at a time on parentPort:
 *
 *   worker → main  { type: 'ready' }                          the model is loaded
 *                  { type: 'load-error', reason, ... }        TurnModelLoadError, then it exits
 *   main → worker  { type: 'predict', id, audio }             audio: Int16Array (its buffer transferred)
 *   worker → main  { type: 'result', id, probability, featuresMs, inferenceMs }
 *                  { type: 'error', id, name, message }       that prediction failed
 *   main → worker  { type: 'dispose' }                        release the session and exit
 *   worker → main  { type: 'disposed' }
 *   main → worker  { type: 'crash', how }                     test hook: die ('throw' or 'exit')
 *
 * Built as its own entry (electron.vite.config.ts: out/main/smart-turn-worker.js); onnxruntime-node
 * stays external and resolves from node_modules exactly as it does for the main bundle.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { SmartTurnModel, TurnModelLoadError, type TurnModelLoadFailure } from './smart-turn';

export interface SmartTurnWorkerData {
  readonly kind: 'cue-smart-turn';
  readonly modelPath: string;
}

export type SmartTurnWorkerRequest =
  | { type: 'predict'; id: number; audio: Int16Array }
  | { type: 'dispose' }
  | { type: 'crash'; how: 'throw' | 'exit' };

export type SmartTurnWorkerReply =
  | { type: 'ready' }
  | { type: 'load-error'; modelPath: string; reason: TurnModelLoadFailure; message: string }
  | { type: 'result'; id: number; probability: number; featuresMs: number; inferenceMs: number }
  | { type: 'error'; id: number; name: string; message: string }
  | { type: 'disposed' };

/** Exit code of the 'crash' test hook's 'exit'. */
export const SMART_TURN_WORKER_CRASH_EXIT_CODE = 70;

function isWorkerData(data: unknown): data is SmartTurnWorkerData {
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as SmartTurnWorkerData).kind === 'cue-smart-turn' &&
    typeof (data as SmartTurnWorkerData).modelPath === 'string'
  );
}

async function serve(port: MessagePort, modelPath: string): Promise<void> {
  const post = (reply: SmartTurnWorkerReply) => port.postMessage(reply);
  let model: SmartTurnModel;
  try {
    model = await SmartTurnModel.load(modelPath);
  } catch (error) {
    if (!(error instanceof TurnModelLoadError)) throw error; // an 'error' event on the Worker
    post({ type: 'load-error', modelPath: error.modelPath, reason: error.reason, message: error.message });
    port.close(); // nothing else keeps the thread alive: it exits
    return;
  }
  port.on('message', (request: SmartTurnWorkerRequest) => {
    switch (request.type) {
      case 'predict': {
        const { id } = request;
        model.predictTimed(request.audio).then(
          ({ probability, featuresMs, inferenceMs }) =>
            post({ type: 'result', id, probability, featuresMs, inferenceMs }),
          (error: unknown) =>
            post({
              type: 'error',
              id,
              name: error instanceof Error ? error.name : 'Error',
              message: error instanceof Error ? error.message : String(error),
            }),
        );
        break;
      }
      case 'dispose':
        // The model finishes the predictions it has, then frees the session; the thread exits.
        void model
          .dispose()
          .catch(() => undefined)
          .then(() => {
            post({ type: 'disposed' });
            port.close();
          });
        break;
      case 'crash':
        if (request.how === 'exit') process.exit(SMART_TURN_WORKER_CRASH_EXIT_CODE);
        throw new Error('Smart Turn worker: crash requested (test hook)');
    }
  });
  post({ type: 'ready' });
}

// Only as the Smart Turn worker: imported anywhere else (the main thread), this module does nothing.
// An unexpected error while loading is thrown as an uncaught exception: the Worker's 'error' event.
if (parentPort && isWorkerData(workerData)) {
  serve(parentPort, workerData.modelPath).catch((error: unknown) => {
    process.nextTick(() => {
      throw error;
    });
  });
}
