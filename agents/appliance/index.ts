/**
 * @module agents/appliance
 * The appliance's first boot (seed), node environment and readiness banner; the commands
 * the image's systemd units run are in `main.ts`.
 */
export * from './seed';
export { APPLIANCE_PATHS } from './paths';
