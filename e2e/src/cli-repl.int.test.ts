// `seqline sql` for daily use against the real stack: a script piped into stdin (no prompts),
// `-f FILE` stopping at the first failure with its position (and nothing after it applied),
// --format csv and json, and the REPL in a pseudo-terminal (prompts, multi-line input, Tab
// completion of keywords, tables and columns, \dt and \d, Ctrl-C, history kept in a private
// file, Ctrl-D).
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from './client.js';
import { ALICE, seqline, startCli, startCliStack, WAIT, type CliStack } from './seqline-cli.js';
import type { Stack } from './stack.js';

let fixture: CliStack | undefined;
let stack: Stack;
let alice: string;
let home: string;

beforeAll(async () => {
  fixture = await startCliStack('seqline-repl-');
  ({ stack, alice, home } = fixture);
});

afterAll(async () => {
  await fixture?.[Symbol.asyncDispose]();
});

const env = (): Record<string, string> => ({ ...ALICE, SEQLINE_URL: stack.url });
const titles = async (status: string): Promise<unknown[]> => ((await ok(stack.url, alice, `SELECT title FROM app.tickets WHERE status = '${status}' ORDER BY title`))[0]!['rows'] as unknown[][]).map((r) => r[0]);

/** What a terminal shows, without the escape sequences that move the cursor and clear. */
// eslint-disable-next-line no-control-regex -- removing the terminal's escape sequences is the point
const screen = (raw: string): string => raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

describe('seqline sql', () => {
  it('runs a script piped into stdin: statements over several lines, strings and comments with ;', async () => {
    const input = [
      "INSERT INTO app.tickets (title, status) VALUES ('semi;colon', 'piped'); -- a comment; not a statement",
      'INSERT INTO app.tickets (title, status, priority)',
      "  VALUES ('it''s', 'piped', 2);",
      '/* a; block */ SELECT title, priority',
      "FROM app.tickets WHERE status = 'piped' ORDER BY title",
      '',
    ].join('\n');
    expect(await seqline(['sql'], { home, env: env(), input })).toEqual({
      code: 0,
      stdout: ['Inserted 1 row(s)', '', 'Inserted 1 row(s)', '', 'title      | priority', '-----------+---------', "it's       |        2", 'semi;colon |     NULL', '(2 rows)', ''].join('\n'),
      stderr: '',
    });
  });

  it('-f stops at the first failing statement with its position; nothing after it runs', async () => {
    const file = join(home, 'migrate.sql');
    await writeFile(
      file,
      [
        "INSERT INTO app.tickets (title, status) VALUES ('m1', 'file');",
        '',
        '-- the table does not exist:',
        "INSERT INTO app.tickets (title, status) VALUES ('m2', 'file'); INSERT INTO app.nope (title)",
        "  VALUES ('x');",
        "INSERT INTO app.tickets (title, status) VALUES ('m3', 'file');",
      ].join('\n'),
    );
    expect(await seqline(['sql', '-f', file], { home, env: env() })).toEqual({
      code: 1,
      stdout: 'Inserted 1 row(s)\n\nInserted 1 row(s)\n',
      stderr: `error: ${file}:4:64: statement 3: TABLE_NOT_FOUND: table app.nope does not exist\n`,
    });
    expect(await titles('file')).toEqual(['m1', 'm2']);

    await writeFile(file, "INSERT INTO app.tickets (title, status) VALUES ('never', 'file');\nSELECT 'open string;\n");
    expect(await seqline(['sql', '-f', file], { home, env: env() })).toEqual({ code: 1, stdout: 'Inserted 1 row(s)\n', stderr: `error: ${file}:2:1: INCOMPLETE_SQL: the input ends inside a string\n` });
  });

  it('prints CSV (RFC 4180) and JSON', async () => {
    await ok(stack.url, alice, "INSERT INTO app.tickets (title, status, priority) VALUES ('a, \"quoted\"', 'csv', 1), ('', 'csv', NULL)");
    const select = "SELECT title, priority FROM app.tickets WHERE status = 'csv' ORDER BY title;";
    expect(await seqline(['sql', '--format', 'csv'], { home, env: env(), input: select })).toEqual({ code: 0, stdout: 'title,priority\r\n"",\r\n"a, ""quoted""",1\r\n', stderr: '' });
    const json = await seqline(['sql', '--format', 'json'], { home, env: env(), input: `${select}\n${select}` });
    expect(json.code).toBe(0);
    const lines = json.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2); // one line per request
    expect(JSON.parse(lines[1]!)).toEqual([
      {
        schema: [
          { name: 'title', data_type: 'Text', index: 0, flags: ['nn'] },
          { name: 'priority', data_type: 'Int', index: 1 },
        ],
        rows: [
          ['', null],
          ['a, "quoted"', 1],
        ],
        row_count: 2,
        as_user: 'alice',
      },
    ]);
  });
});

describe('the REPL on a terminal', () => {
  it('prompts, gathers lines, completes keywords, tables and columns, runs \\dt and \\d, cancels with Ctrl-C, keeps a private history and quits on Ctrl-D', async () => {
    await ok(stack.url, alice, "INSERT INTO app.tickets (title, status) VALUES ('r1', 'repl')");
    await using repl = startCli(['sql'], { home, env: env(), terminal: true });
    const shown = (): string => screen(repl.stdout());
    /** Types keys and waits for the screen to show `expected`. */
    const type = async (keys: string, expected: string): Promise<void> => {
      repl.write(keys);
      await expect.poll(shown, WAIT).toContain(expected);
    };
    await expect.poll(shown, WAIT).toContain('seqline> ');

    await type('sel\t', 'seqline> select');
    await type(' title FROM app.ti\t', 'seqline> select title FROM app.tickets');
    await type('\r', 'seqline-> ');
    await type('WHERE sta\t', 'seqline-> WHERE status');
    await type(" = 'repl';\r", '(1 row)');
    await type('\\dt\r', 'tickets    | user');
    await type('\\d app.tickets\r', '(6 rows)');
    repl.write("SELECT 'discarded\x03");
    await type('\\?\r', 'Ctrl-D quits.');
    repl.write('\x04');
    expect(await repl.exited).toBe(0);
    expect(shown()).toBe(
      [
        'seqline: type SQL ending with ";", \\? for help, \\q to quit',
        'seqline> select title FROM app.tickets',
        "seqline-> WHERE status = 'repl';",
        'title',
        '-----',
        'r1',
        '(1 row)',
        '',
        'seqline> \\dt',
        'namespace_id | table_name | table_type | access_level',
        '-------------+------------+------------+-------------',
        'app          | tickets    | user       | NULL',
        '(1 row)',
        '',
        'seqline> \\d app.tickets',
        'column_name | data_type | is_nullable | is_primary_key | column_default',
        '------------+-----------+-------------+----------------+---------------',
        'id          | BIGINT    | false       | true           | SNOWFLAKE_ID()',
        'title       | TEXT      | false       | false          | NULL',
        "status      | TEXT      | true        | false          | 'open'",
        'priority    | INT       | true        | false          | NULL',
        '_seq        | BIGINT    | false       | false          | NULL',
        '_deleted    | BOOLEAN   | false       | false          | false',
        '(6 rows)',
        '',
        "seqline> SELECT 'discarded",
        'seqline> \\?',
        'Meta-commands (at the start of a line):',
        '  \\dt [NS]     the tables you may read (in namespace NS): SHOW TABLES [IN NS]',
        "  \\d [TABLE]   a table's columns: DESCRIBE TABLE ns.t (alone: \\dt)",
        '  \\dn          the namespaces: SHOW NAMESPACES',
        '  \\q           quit (Ctrl-D too)',
        '  \\?           this list',
        'SQL runs when a ";" ends it; a statement may span lines. BEGIN … COMMIT is sent as one',
        'request when it ends. Tab completes keywords, tables and columns. Ctrl-C cancels the',
        'input (or stops waiting for an answer), Ctrl-D quits.',
        'seqline> ',
        '',
      ].join('\n'),
    );
    const history = join(home, 'config', 'history');
    expect((await stat(history)).mode & 0o777).toBe(0o600);
    expect(await readFile(history, 'utf8')).toBe("select title FROM app.tickets\nWHERE status = 'repl';\n\\dt\n\\d app.tickets\n\\?\n");
  });
});
