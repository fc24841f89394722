/**
 * The transfer wing: remotes and trust in them, remote sessions and pack
 * indexes, push (what to send: `push.ts`), fetch and refetch, the partial
 * store's chunk fetching (`openRepository` installs it), remote checks and
 * repair, signatures on a remote.
 */
export { ensureVersion, fetchAndStage, fetchFromRemote, type FetchTransfer } from './fetch.js';
export { openRepository, withPartialChunks } from './partial.js';
export { pushToRemote, type RefUpdate } from './push.js';
export { checkRemote, type RemoteCheck } from './remoteCheck.js';
export { type RemoteRepair, repairRemote } from './remoteRepair.js';
export { defaultJobs, type RemoteRef, type RemoteSession, withRemote } from './remoteSession.js';
export { type RemoteIndex, syncRemoteIndex } from './remoteIndex.js';
export { assertSafeSpec, describeRemote, readTrust, trustRemote, trustState, writeTrust } from './remoteTrust.js';
export { deleteRemote, findRemote, listRemotes, type RemoteEntry, saveRemote, SHARED_REMOTES_FILE } from './remotes.js';
