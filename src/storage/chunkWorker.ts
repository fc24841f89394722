import { serveTasks } from './workerPool.js';
import { runChunkTask } from './chunkTasks.js';

/** Worker-thread entry: runs chunk tasks posted by a ChunkPool. */
serveTasks(runChunkTask);
