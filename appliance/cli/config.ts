/**
 * @module cli/config
 * `oio config reference`: every configuration key with its environment variable, flag, type,
 * default and description, generated from the one schema (the README and the image's
 * default config are made from this output).
 */
import { describeConfig } from '../common';
import type { Command } from './context';
import { showList } from './output';

export const configCommands: Command[] = [
  {
    name: 'config reference', usage: 'config reference [--format table|json|value]', summary: 'every configuration key, its env variable, flag and default',
    async run(ctx) {
      const rows = describeConfig().map((k) => ({ Key: k.key, Env: k.env, Flag: k.flag, Type: k.type, Default: k.default, Description: k.description }));
      showList(ctx.io, ctx.format, ['Key', 'Env', 'Flag', 'Type', 'Default', 'Description'], rows);
    },
  },
];
