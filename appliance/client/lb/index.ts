/** @module client/lb — score expressions, locations and distance, pools and policies, the bulletin cache. */
export * from './score-expr';
export * from './distance';
export * from './pool';
export * from './bulletin-cache';
export * from './auto-policy';
