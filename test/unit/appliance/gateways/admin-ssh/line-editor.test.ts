/** Unit tests of the console's key decoding and line editing (no terminal, no SSH). */
import assert from 'node:assert/strict';
import { KeyDecoder, LineEditor, type EditorEvent } from '../../../../../appliance/gateways/admin-ssh';

/** Feeds raw terminal input to a fresh decoder and editor; returns the editor and the events. */
function type(input: string | string[], editor = new LineEditor()): { editor: LineEditor; events: EditorEvent[] } {
  const dec = new KeyDecoder();
  const events: EditorEvent[] = [];
  for (const chunk of Array.isArray(input) ? input : [input]) for (const k of dec.feed(chunk)) events.push(editor.handle(k));
  return { editor, events };
}

const LEFT = '\x1b[D';
const RIGHT = '\x1b[C';
const UP = '\x1b[A';
const DOWN = '\x1b[B';

describe('admin-ssh line editor', () => {
  it('decodes arrows, home/end and delete in both CSI and SS3 forms', () => {
    const keys = new KeyDecoder().feed('\x1b[A\x1bOB\x1b[C\x1b[D\x1b[H\x1b[F\x1b[1~\x1b[4~\x1b[3~');
    assert.deepEqual(keys.map((k) => k.name), ['up', 'down', 'right', 'left', 'home', 'end', 'home', 'end', 'delete']);
  });

  it('keeps an escape sequence split across two packets', () => {
    const dec = new KeyDecoder();
    assert.deepEqual(dec.feed('ab\x1b['), [{ name: 'char', ch: 'a' }, { name: 'char', ch: 'b' }]);
    assert.deepEqual(dec.feed('D'), [{ name: 'left' }]);
  });

  it('ignores unknown escape sequences instead of inserting them', () => {
    const { editor } = type('a\x1b[200~b\x1b[15~c');
    assert.equal(editor.line, 'abc');
  });

  it('inserts at the cursor after moving left', () => {
    const { editor } = type(`acd${LEFT}${LEFT}b`);
    assert.equal(editor.line, 'abcd');
    assert.equal(editor.cursor, 2);
  });

  it('moves right but not past the end', () => {
    const { editor } = type(`ab${LEFT}${LEFT}${RIGHT}${RIGHT}${RIGHT}c`);
    assert.equal(editor.line, 'abc');
  });

  it('deletes before the cursor with backspace (DEL and ^H)', () => {
    assert.equal(type('abc\x7f').editor.line, 'ab');
    assert.equal(type(`abc${LEFT}\x08`).editor.line, 'ac');
  });

  it('jumps home and end with the keys and with Ctrl-A / Ctrl-E', () => {
    assert.equal(type('bc\x1b[Ha\x1b[Fd').editor.line, 'abcd');
    assert.equal(type('bc\x01a\x05d').editor.line, 'abcd');
  });

  it('kills to the start with Ctrl-U and to the end with Ctrl-K', () => {
    assert.equal(type(`hello world${LEFT}${LEFT}\x15`).editor.line, 'ld');
    assert.equal(type(`hello world\x01${RIGHT}${RIGHT}\x0b`).editor.line, 'he');
  });

  it('deletes the word before the cursor with Ctrl-W, spaces included', () => {
    assert.equal(type('container show  photos  \x17').editor.line, 'container show  ');
    assert.equal(type('container show\x17\x17').editor.line, '');
  });

  it('submits the line on Enter (CR, LF or CRLF) and starts a new one', () => {
    const { editor, events } = type('cluster show\r\nx');
    assert.deepEqual(events.filter((e) => e.type === 'submit'), [{ type: 'submit', line: 'cluster show' }]);
    assert.equal(editor.line, 'x');
  });

  it('walks the history with up and down and restores the line being typed', () => {
    const { editor } = type(['first\r', 'second\r', 'draft', UP]);
    assert.equal(editor.line, 'second');
    type(UP, editor);
    assert.equal(editor.line, 'first');
    type(UP, editor);
    assert.equal(editor.line, 'first');
    type(DOWN, editor);
    assert.equal(editor.line, 'second');
    type(DOWN, editor);
    assert.equal(editor.line, 'draft');
  });

  it('does not record empty lines nor a repeat of the last line', () => {
    const { editor } = type('a\r\r   \ra\rb\r');
    assert.deepEqual(editor.entries, ['a', 'b']);
  });

  it('bounds the history', () => {
    const ed = new LineEditor(3);
    type('1\r2\r3\r4\r', ed);
    assert.deepEqual(ed.entries, ['2', '3', '4']);
  });

  it('clears the line on Ctrl-C and reports an interrupt', () => {
    const { editor, events } = type('half typed\x03');
    assert.equal(events.at(-1)?.type, 'interrupt');
    assert.equal(editor.line, '');
  });

  it('ends the session on Ctrl-D only when the line is empty', () => {
    assert.equal(type('\x04').events.at(-1)?.type, 'eof');
    const { editor, events } = type(`ab${LEFT}\x04`);
    assert.equal(events.at(-1)?.type, 'changed');
    assert.equal(editor.line, 'a');
  });

  it('asks for completion on Tab without changing the line', () => {
    const { editor, events } = type('clu\t');
    assert.equal(events.at(-1)?.type, 'complete');
    assert.equal(editor.line, 'clu');
  });

  it('handles characters outside the BMP as one character', () => {
    const { editor } = type(`a😀b${LEFT}\x7f`);
    assert.equal(editor.line, 'ab');
  });

  it('renders the prompt and line, clears the rest and puts the cursor back', () => {
    const { editor } = type(`abcd${LEFT}${LEFT}`);
    assert.equal(editor.render('NS@1.2.3.4> '), '\rNS@1.2.3.4> abcd\x1b[K\x1b[2D');
    type('\x05', editor);
    assert.equal(editor.render('> '), '\r> abcd\x1b[K');
  });
});

describe('admin-ssh line editor on a narrow terminal', () => {
  it('shows the whole line when it fits', () => {
    const { editor } = type('abcdef');
    assert.equal(editor.render('> ', 80), '\r> abcdef\x1b[K');
  });

  it('scrolls a long line to keep the cursor visible at the end', () => {
    const { editor } = type('abcdefghijklmnopqrst'); // 20 chars, room = 13 - 2 - 1 = 10
    assert.equal(editor.render('> ', 13), '\r> lmnopqrst\x1b[K');
  });

  it('scrolls back when the cursor moves home, and shows the cursor place', () => {
    const { editor } = type('abcdefghijklmnopqrst\x01');
    assert.equal(editor.render('> ', 13), '\r> abcdefghij\x1b[K\x1b[10D');
    type('\x1b[C\x1b[C', editor);
    assert.equal(editor.render('> ', 13), '\r> abcdefghij\x1b[K\x1b[8D');
  });
});
