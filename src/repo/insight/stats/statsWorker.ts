import { serveTasks } from '../../../storage/workerPool.js';
import { runStatsTask } from './statsTasks.js';

/** Worker-thread entry: computes tensor difference sums for diff --stats. */
serveTasks(runStatsTask);
