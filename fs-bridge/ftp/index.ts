/** @module fs-bridge/ftp — the FTP front end (ftp-srv) on the bridge layer. */
export { startFtpServer, type FtpServerOptions, type FtpServerHandle, type FtpUser } from './ftp-server';
export { BridgeFileSystem } from './bridge-file-system';
export { FTP_REPLY_OF_CODE, ftpReplyOf } from './replies';
