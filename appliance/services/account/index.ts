/** @module services/account — accounts, container lists and usage. */
export { AccountService, AccountServiceOptions } from './service';
export { AccountBackend, AccountInfo, ContainerListing, ContainerUpdate, ContainerUsage, UserInfo } from './backend';
