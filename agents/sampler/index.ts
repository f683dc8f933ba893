/** @module agents/sampler — the node agent: samplers, health checkers, registration loop. */
export { Agent, AgentOptions, LocalService, roundStat } from './loop';
export { CpuSampler, CpuTimes, cpuIdlePercent, parseProcStat } from './samplers/cpu';
export { IoSampler, IoSample, DiskStat, blockDeviceOf, ioIdlePercent, parseDiskstats, splitDev } from './samplers/io';
export { spaceFreePercent } from './samplers/space';
export { checkHttp } from './checkers/http';
export { checkTcp } from './checkers/tcp';
