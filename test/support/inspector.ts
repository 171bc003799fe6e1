// The uncaught exceptions and console output of a Worker on workerd, read from its
// inspector (the Chrome DevTools protocol): workerd reports each exception there as
// Runtime.exceptionThrown, be it a handler that threw, a promise given to
// ctx.waitUntil that rejected, or a response body that failed after its headers went
// out. It is what workerd's --verbose log calls "uncaught exception", for this Worker
// alone.
import { WebSocket } from 'node:http';

export interface WorkerWatch {
  /** The texts of the exceptions reported since the watch began or was last cleared. */
  readonly exceptions: string[];
  /** What the Worker wrote with console.*, over the same time. */
  readonly logged: string[];
  clear(): void;
  close(): void;
}

interface DevToolsMessage {
  id?: number;
  method?: string;
  params?: {
    exceptionDetails?: { text?: string; exception?: { description?: string } };
    args?: { value?: unknown; description?: string }[];
  };
}

/** Watches the Worker named `service` of the workerd whose inspector listens on `port`. */
export async function watchWorker(port: number, service = 'main'): Promise<WorkerWatch> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/${service}`);
  const exceptions: string[] = [];
  const logged: string[] = [];
  const enabled = new Promise<void>((resolve, reject) => {
    socket.addEventListener('error', () => reject(new Error(`no inspector for ${service} on 127.0.0.1:${port}`)));
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as DevToolsMessage;
      if (message.id === 1) resolve();
      if (message.method === 'Runtime.exceptionThrown') {
        const details = message.params?.exceptionDetails;
        exceptions.push(details?.exception?.description ?? details?.text ?? 'an exception without text');
      }
      if (message.method === 'Runtime.consoleAPICalled') {
        logged.push((message.params?.args ?? []).map((arg) => (typeof arg.value === 'string' ? arg.value : (arg.description ?? String(arg.value)))).join(' '));
      }
    });
    socket.addEventListener('open', () => socket.send(JSON.stringify({ id: 1, method: 'Runtime.enable' })));
  });
  await enabled;
  return {
    exceptions,
    logged,
    clear: () => {
      exceptions.length = 0;
      logged.length = 0;
    },
    close: () => socket.close(),
  };
}
