import { parentPort } from 'node:worker_threads';
import { runChunkTask, type ChunkTask } from './chunkTasks.js';

/** Worker-thread entry: runs chunk tasks posted by the WorkerPool and answers with their results. */
parentPort?.on('message', (msg: { seq: number; task: ChunkTask }) => {
  const result = runChunkTask(msg.task);
  parentPort!.postMessage({ seq: msg.seq, result });
});
