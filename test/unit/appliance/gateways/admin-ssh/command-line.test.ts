/** Unit tests of the console's command line splitting (a parser, never a shell). */
import assert from 'node:assert/strict';
import { splitCommandLine } from '../../../../../appliance/gateways/admin-ssh';
import { isOioError } from '../../../../../appliance/common';

describe('admin-ssh command line', () => {
  it('splits on spaces and tabs', () => {
    assert.deepEqual(splitCommandLine('  oio  cluster\tshow '), ['oio', 'cluster', 'show']);
  });

  it('keeps quoted text as one word, quotes removed', () => {
    assert.deepEqual(splitCommandLine(`admin key add "ssh-ed25519 AAAA me@host" --name 'my key'`), ['admin', 'key', 'add', 'ssh-ed25519 AAAA me@host', '--name', 'my key']);
    assert.deepEqual(splitCommandLine(`a"b c"d ''`), ['ab cd', '']);
  });

  it('handles backslash escapes outside and inside double quotes', () => {
    assert.deepEqual(splitCommandLine('a\\ b "c\\"d" \'e\\f\''), ['a b', 'c"d', 'e\\f']);
  });

  it('refuses shell operators, variables and globs unless quoted', () => {
    for (const line of ['cluster show | head', 'cluster show; ls', 'x && y', 'a > /etc/passwd', 'echo $HOME', 'echo `id`', 'object list *', 'a(b)']) {
      assert.throws(() => splitCommandLine(line), (e: unknown) => isOioError(e) && e.code === 'BAD_REQUEST' && /not a shell/.test(e.message), line);
    }
    assert.deepEqual(splitCommandLine(`object list "a|b" 'c;d' \\$x`), ['object', 'list', 'a|b', 'c;d', '$x']);
  });

  it('refuses an unterminated quote or a trailing backslash', () => {
    assert.throws(() => splitCommandLine('a "b'), /unterminated/);
    assert.throws(() => splitCommandLine("a 'b"), /unterminated/);
    assert.throws(() => splitCommandLine('a \\'), /trailing backslash/);
  });
});
