// The help texts of `seqline` and its commands (printed by --help, and a synopsis with usage
// errors). Keep them in step with args.ts and the "Command line" section of the README.
import type { CommandName } from './args.js';

export const SYNOPSIS: Readonly<Record<CommandName, string>> = {
  login: 'seqline login [--url URL] [--user USER] [--password PASSWORD]',
  sql: 'seqline sql ["SQL" | -f FILE] [--format table|json|csv] [--url URL] [--user USER --password PASSWORD]',
  live: 'seqline live "SELECT …" [--json] [--count] [--batch-size N] [--url URL] [--user USER --password PASSWORD]',
  gen: 'seqline gen types [--namespace NS] [--bigint bigint|string] [--url URL] [--user USER --password PASSWORD] > schema.ts',
};

const CONNECTION = `Connection options (every command):
  --url URL            the gateway; default $SEQLINE_URL, else the URL of the last login,
                       else http://127.0.0.1:8080
  --user USER          default $SEQLINE_USER
  --password PASSWORD  default $SEQLINE_PASSWORD; sql and live given a user and password
                       log in themselves and save nothing, otherwise they use the session
                       that \`seqline login\` saved for the URL
  -h, --help           this help`;

const TOP = `seqline: the Seqline command line

Usage:
  ${SYNOPSIS.login}
  ${SYNOPSIS.sql}
  ${SYNOPSIS.live}
  ${SYNOPSIS.gen}
  seqline <command> --help
  seqline --version

Commands:
  login   log in and save the session for the other commands
  sql     run SQL (several statements separated by ;), a file of it, or a REPL
  live    print a query's rows, then each change as it happens, until Ctrl-C
  gen     gen types: print TypeScript row types of the tables you may read

${CONNECTION}

Sessions are saved in $SEQLINE_CONFIG_DIR/credentials.json (default
$XDG_CONFIG_HOME/seqline, else ~/.config/seqline), the REPL's history in history
beside it, both readable by you only.
Exit status: 0 done, 1 failed (printed as "error: CODE: message"), 2 usage error.
`;

const COMMAND_HELP: Readonly<Record<CommandName, string>> = {
  login: `Usage: ${SYNOPSIS.login}

Logs in (POST /v1/api/auth/login) and saves the session for the URL: the user and the
access and refresh tokens, never the password. The other commands refresh it as needed.
Asks for the user and the password on a terminal when they are not given.

${CONNECTION}
`,
  sql: `Usage: ${SYNOPSIS.sql}

Runs SQL (POST /v1/api/sql) and prints each statement's result: rows as an aligned table
(NULL for null, then "(N rows)"), otherwise the server's message ("Inserted 1 row(s)").

  "SQL"                one or more statements separated by ;, sent as one request
  -f, --file FILE      run the statements of FILE one by one (BEGIN … COMMIT as one
                       request); the first failure stops it with exit status 1 and
                       its position ("FILE:LINE:COLUMN: statement N: CODE: message")
  (neither)            on a terminal, a REPL: \\dt lists the tables, \\d TABLE shows
                       a table's columns, \\? lists the commands; Tab completes
                       keywords, tables and columns; Ctrl-C cancels the input, Ctrl-D
                       quits. Otherwise the SQL piped into stdin, run as -f runs a file
  --format FORMAT      table (default); json: each request's results array as the
                       server sent it, one line each; csv: RFC 4180 records (CRLF),
                       a header of column names, NULL as an empty field, "" for an
                       empty string, the server's messages on stderr
  --json               the same as --format json

${CONNECTION}
`,
  live: `Usage: ${SYNOPSIS.live}

Subscribes to a live query over the WebSocket: prints the snapshot's rows ("row {…}"),
then each change as it arrives ("insert {…}", "update {…}", "delete {…}"), until Ctrl-C.
Progress and the connection's status go to stderr. After a disconnect it reconnects and
resumes from the last change it printed: nothing missed, nothing repeated.

  --json               print every protocol event as one JSON object per line
  --count              do not print the snapshot's rows, only their count (on stderr)
  --batch-size N       rows per snapshot batch (default: the server's)

${CONNECTION}
`,
  gen: `Usage: ${SYNOPSIS.gen}

Reads the schema over the SQL API (SHOW TABLES) and prints TypeScript row types on stdout:
one row type per table you may read (AppTickets for app.tickets), with the columns of
SELECT * (_seq and _deleted last) typed as @seqline/client returns them, and an interface
Tables naming them all ('app.tickets': AppTickets). Use them as query<AppTickets>(…),
live<AppTickets>(…) and useLiveQuery<AppTickets>(…).

  BIGINT -> bigint (string with --bigint string); SMALLINT, INT, FLOAT, DOUBLE -> number;
  DECIMAL, TEXT, UUID, JSON (its text) -> string; BYTES -> number[]; BOOLEAN -> boolean;
  TIMESTAMP, DATETIME, TIME -> number (microseconds); DATE -> number (days).
  A nullable column adds | null.

  --namespace NS       only the tables of namespace NS (its exact name)
  --bigint MODE        bigint (default) or string, as the client's bigint option

${CONNECTION}
`,
};

export function helpText(command?: CommandName): string {
  return command === undefined ? TOP : COMMAND_HELP[command];
}
