/**
 * @module client/lb/score-expr
 * The score expression language (OpenIO `score_expr`): parsed once into an AST compiled to
 * closures, evaluated many times against a service's tags. No eval, no Function.
 *
 * Grammar (lowest precedence first):
 *   expr    := or
 *   or      := and ( '||' and )*
 *   and     := cmp ( '&&' cmp )*
 *   cmp     := add ( ( '<' | '<=' | '>' | '>=' | '==' | '!=' ) add )*
 *   add     := mul ( ( '+' | '-' ) mul )*
 *   mul     := unary ( ( '*' | '/' ) unary )*
 *   unary   := ( '-' | '!' ) unary | primary
 *   primary := NUMBER | IDENT | FUNC '(' expr ( ',' expr )* ')' | '(' expr ')'
 *   IDENT   := ( 'stat' | 'tag' ) '.' NAME ( '.' NAME )*     e.g. stat.cpu, tag.up
 *   FUNC    := root(n, x) | clamp(x, lo, hi) | min(a, ...) | max(a, ...)
 *
 * Semantics: comparisons, `&&`, `||` and `!` yield 1 or 0 (non-zero is true). A missing
 * identifier is 0; a boolean tag is 1/0; a string tag is its numeric value ("true" 1, other
 * text 0). Division by zero gives 0; `root(n, x)` is the n-th root, 0 when x < 0 or n <= 0.
 * Any NaN or infinite intermediate result becomes 0, so a score is always a finite number.
 */
import { InvalidArgumentError } from '../../common/errors';
import type { ServiceTags } from '../../common/model';

/** A node of the parsed expression. */
export type ScoreAst =
  | { kind: 'num'; value: number }
  | { kind: 'var'; name: string }
  | { kind: 'unary'; op: '-' | '!'; arg: ScoreAst }
  | { kind: 'binary'; op: BinaryOp; left: ScoreAst; right: ScoreAst }
  | { kind: 'call'; fn: FunctionName; args: ScoreAst[] };

export type BinaryOp = '+' | '-' | '*' | '/' | '<' | '<=' | '>' | '>=' | '==' | '!=' | '&&' | '||';
export type FunctionName = 'root' | 'clamp' | 'min' | 'max';

/** Where variables come from: a tag record (`{ 'stat.cpu': 90 }`) or a lookup function. */
export type ScoreVars = ServiceTags | ((name: string) => number);

/** A compiled expression: parse once, `evaluate` many times. */
export interface ScoreExpr {
  readonly source: string;
  readonly ast: ScoreAst;
  /** the `stat.X` / `tag.X` names the expression reads */
  readonly identifiers: readonly string[];
  /** The raw value (finite; not clamped). */
  evaluate(vars: ScoreVars): number;
}

interface Token { kind: 'num' | 'id' | 'op' | 'end'; text: string; pos: number }

const FUNCTIONS: Record<FunctionName, { min: number; max: number }> = {
  root: { min: 2, max: 2 },
  clamp: { min: 3, max: 3 },
  min: { min: 1, max: Infinity },
  max: { min: 1, max: Infinity },
};

const OPS = ['<=', '>=', '==', '!=', '&&', '||', '+', '-', '*', '/', '<', '>', '(', ')', ',', '!'];

function syntaxError(src: string, pos: number, why: string): InvalidArgumentError {
  return new InvalidArgumentError('BAD_REQUEST', `score expression "${src}": ${why} at position ${pos}`, { details: { position: pos } });
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const num = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) { out.push({ kind: 'num', text: num[0], pos: i }); i += num[0].length; continue; }
    const id = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*/.exec(src.slice(i));
    if (id) { out.push({ kind: 'id', text: id[0], pos: i }); i += id[0].length; continue; }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) { out.push({ kind: 'op', text: op, pos: i }); i += op.length; continue; }
    throw syntaxError(src, i, `unexpected character "${c}"`);
  }
  out.push({ kind: 'end', text: '', pos: src.length });
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly src: string, private readonly toks: Token[]) {}

  private peek(): Token { return this.toks[this.i]!; }
  private next(): Token { return this.toks[this.i++]!; }
  private isOp(...ops: string[]): boolean { const t = this.peek(); return t.kind === 'op' && ops.includes(t.text); }
  private expect(op: string): void {
    const t = this.peek();
    if (t.kind !== 'op' || t.text !== op) throw syntaxError(this.src, t.pos, `expected "${op}" but found ${describe(t)}`);
    this.i++;
  }

  parse(): ScoreAst {
    const ast = this.or();
    const t = this.peek();
    if (t.kind !== 'end') throw syntaxError(this.src, t.pos, `unexpected ${describe(t)}`);
    return ast;
  }

  private binaryLevel(ops: BinaryOp[], sub: () => ScoreAst): ScoreAst {
    let left = sub();
    while (this.isOp(...ops)) {
      const op = this.next().text as BinaryOp;
      left = { kind: 'binary', op, left, right: sub() };
    }
    return left;
  }

  private or(): ScoreAst { return this.binaryLevel(['||'], () => this.and()); }
  private and(): ScoreAst { return this.binaryLevel(['&&'], () => this.cmp()); }
  private cmp(): ScoreAst { return this.binaryLevel(['<', '<=', '>', '>=', '==', '!='], () => this.add()); }
  private add(): ScoreAst { return this.binaryLevel(['+', '-'], () => this.mul()); }
  private mul(): ScoreAst { return this.binaryLevel(['*', '/'], () => this.unary()); }

  private unary(): ScoreAst {
    if (this.isOp('-', '!')) {
      const op = this.next().text as '-' | '!';
      return { kind: 'unary', op, arg: this.unary() };
    }
    return this.primary();
  }

  private primary(): ScoreAst {
    const t = this.next();
    if (t.kind === 'num') return { kind: 'num', value: Number(t.text) };
    if (t.kind === 'op' && t.text === '(') {
      const e = this.or();
      this.expect(')');
      return e;
    }
    if (t.kind === 'id') {
      if (this.isOp('(')) {
        if (!Object.prototype.hasOwnProperty.call(FUNCTIONS, t.text)) {
          throw syntaxError(this.src, t.pos, `unknown function "${t.text}" (known: ${Object.keys(FUNCTIONS).join(', ')})`);
        }
        const fn = t.text as FunctionName;
        this.i++;
        const args: ScoreAst[] = [this.or()];
        while (this.isOp(',')) { this.i++; args.push(this.or()); }
        this.expect(')');
        const arity = FUNCTIONS[fn];
        if (args.length < arity.min || args.length > arity.max) {
          const want = arity.max === Infinity ? `at least ${arity.min}` : String(arity.min);
          throw syntaxError(this.src, t.pos, `${fn}() takes ${want} argument(s), got ${args.length}`);
        }
        return { kind: 'call', fn, args };
      }
      if (!/^(stat|tag)\.[A-Za-z0-9_]/.test(t.text)) {
        throw syntaxError(this.src, t.pos, `unknown identifier "${t.text}" (use stat.X or tag.X)`);
      }
      return { kind: 'var', name: t.text };
    }
    throw syntaxError(this.src, t.pos, `unexpected ${describe(t)}`);
  }
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'end of expression' : `"${t.text}"`;
}

/** Finite or 0: keeps NaN/Infinity from leaking into scores. */
function fin(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

/** Converts a tag value to a number (see the module header). */
export function tagNumber(v: string | number | boolean | undefined): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return fin(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  const s = v.trim();
  if (/^true$/i.test(s)) return 1;
  if (s === '') return 0;
  return fin(Number(s));
}

type Compiled = (get: (name: string) => number) => number;

function compile(ast: ScoreAst): Compiled {
  switch (ast.kind) {
    case 'num': { const v = ast.value; return () => v; }
    case 'var': { const n = ast.name; return (get) => get(n); }
    case 'unary': {
      const a = compile(ast.arg);
      return ast.op === '-' ? (g) => -a(g) : (g) => (a(g) === 0 ? 1 : 0);
    }
    case 'binary': {
      const l = compile(ast.left);
      const r = compile(ast.right);
      switch (ast.op) {
        case '+': return (g) => fin(l(g) + r(g));
        case '-': return (g) => fin(l(g) - r(g));
        case '*': return (g) => fin(l(g) * r(g));
        case '/': return (g) => { const d = r(g); return d === 0 ? 0 : fin(l(g) / d); };
        case '<': return (g) => (l(g) < r(g) ? 1 : 0);
        case '<=': return (g) => (l(g) <= r(g) ? 1 : 0);
        case '>': return (g) => (l(g) > r(g) ? 1 : 0);
        case '>=': return (g) => (l(g) >= r(g) ? 1 : 0);
        case '==': return (g) => (l(g) === r(g) ? 1 : 0);
        case '!=': return (g) => (l(g) !== r(g) ? 1 : 0);
        case '&&': return (g) => (l(g) !== 0 && r(g) !== 0 ? 1 : 0);
        case '||': return (g) => (l(g) !== 0 || r(g) !== 0 ? 1 : 0);
      }
      break;
    }
    case 'call': {
      const args = ast.args.map(compile);
      switch (ast.fn) {
        case 'root': {
          const [n, x] = args as [Compiled, Compiled];
          return (g) => { const nv = n(g); const xv = x(g); return nv <= 0 || xv < 0 ? 0 : fin(Math.pow(xv, 1 / nv)); };
        }
        case 'clamp': {
          const [x, lo, hi] = args as [Compiled, Compiled, Compiled];
          return (g) => Math.min(Math.max(x(g), lo(g)), hi(g));
        }
        case 'min': return (g) => { let m = Infinity; for (const a of args) m = Math.min(m, a(g)); return m; };
        case 'max': return (g) => { let m = -Infinity; for (const a of args) m = Math.max(m, a(g)); return m; };
      }
    }
  }
  throw new InvalidArgumentError('BAD_REQUEST', 'score expression: unknown node');
}

function collectIdentifiers(ast: ScoreAst, out: Set<string>): void {
  switch (ast.kind) {
    case 'var': out.add(ast.name); break;
    case 'unary': collectIdentifiers(ast.arg, out); break;
    case 'binary': collectIdentifiers(ast.left, out); collectIdentifiers(ast.right, out); break;
    case 'call': for (const a of ast.args) collectIdentifiers(a, out); break;
    case 'num': break;
  }
}

/**
 * Parses and compiles a score expression.
 * @throws InvalidArgumentError BAD_REQUEST naming the position of a syntax error
 */
export function parseScoreExpr(source: string): ScoreExpr {
  if (typeof source !== 'string' || source.trim() === '') {
    throw new InvalidArgumentError('BAD_REQUEST', 'score expression: empty');
  }
  const ast = new Parser(source, tokenize(source)).parse();
  const fn = compile(ast);
  const ids = new Set<string>();
  collectIdentifiers(ast, ids);
  return {
    source,
    ast,
    identifiers: [...ids],
    evaluate(vars: ScoreVars): number {
      const get = typeof vars === 'function' ? (n: string) => fin(vars(n)) : (n: string) => tagNumber(vars[n]);
      return fin(fn(get));
    },
  };
}

/** Clamps a raw expression value to an integer score 0..100 (rounded). */
export function toScore(raw: number): number {
  if (!Number.isFinite(raw) || raw <= 0) return 0;
  return Math.min(100, Math.round(raw));
}

/** Evaluates `expr` on `tags` and returns the integer score 0..100. */
export function evalScore(expr: ScoreExpr, tags: ScoreVars): number {
  return toScore(expr.evaluate(tags));
}
