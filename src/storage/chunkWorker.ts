import { parentPort } from 'node:worker_threads';
import { runChunkTask, type ChunkTask } from './chunkTasks.js';

/** Worker-thread entry: runs chunk tasks posted by the WorkerPool and answers with their results. */
parentPort?.on('message', (msg: { seq: number; task: ChunkTask }) => {
  const result = runChunkTask(msg.task);
  // hand a transferred chunk buffer back so the reader can reuse it instead of allocating
  const data = 'data' in msg.task ? msg.task.data : null;
  if (data && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) {
    result.buffer = data.buffer;
    parentPort!.postMessage({ seq: msg.seq, result }, [data.buffer]);
  } else {
    parentPort!.postMessage({ seq: msg.seq, result });
  }
});
