import { currencyOf } from '../../src/domain/money.ts';
import type { ReceivedEvent } from './webhook-receiver.ts';

// How the demo speaks: one heading per step, then aligned "label  value" lines, ledger
// transactions as indented tables, and the webhooks that arrived meanwhile. Plain text, no
// colours, so it reads the same in a terminal, a CI log and a test's captured output.

const labelWidth = 20;
/** Explanations and long values are wrapped to this many columns. */
const textWidth = 100;
const accountWidth = 44;
const amountWidth = 14;

export type Print = (line: string) => void;

/** 1234 USD → "12.34 USD"; signed when asked, so ledger columns show debits and credits. */
export function money(amountMinor: number, currency: string, { signed = false } = {}): string {
  const exponent = Number(currencyOf(currency)?.exponent ?? 2);
  const sign = amountMinor < 0 ? '-' : signed ? '+' : '';
  const digits = String(Math.abs(amountMinor)).padStart(exponent + 1, '0');
  const units = exponent === 0 ? digits : `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
  return `${sign}${units} ${currency}`;
}

export interface LedgerTransaction {
  transaction_id: string;
  kind: string;
  entries: { account_id: string; amount: number; currency: string; balance_after: number | null }[];
}

/** Splits text into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else current = current === '' ? word : `${current} ${word}`;
  }
  if (current !== '') lines.push(current);
  return lines;
}

export class DemoOutput {
  private stepNumber = 0;
  /** Account ids the demo made, with what they are, shown beside their ledger entries. */
  private readonly accountNames = new Map<string, string>();

  constructor(
    private readonly print: Print,
    private readonly stepCount: number,
  ) {}

  nameAccount(id: string, name: string): void {
    this.accountNames.set(id, name);
  }

  step(title: string, explanation: string): void {
    this.stepNumber += 1;
    const heading = `Step ${this.stepNumber} of ${this.stepCount}: ${title}`;
    this.print('');
    this.print(heading);
    this.print('-'.repeat(heading.length));
    for (const line of wrap(explanation, textWidth)) this.print(line);
  }

  fact(label: string, value: string): void {
    const width = textWidth - labelWidth - 2;
    // Short values keep their own spacing (aligned columns); long ones are wrapped at spaces.
    const [first = '', ...rest] = value.length <= width ? [value] : wrap(value, width);
    this.print(`  ${label.padEnd(labelWidth)}${first}`);
    for (const line of rest) this.print(`  ${''.padEnd(labelWidth)}${line}`);
  }

  ledger(transactions: readonly LedgerTransaction[]): void {
    if (transactions.length === 0) {
      this.fact('ledger', 'no entries');
      return;
    }
    for (const transaction of transactions) {
      this.fact('ledger', `${transaction.kind} (${transaction.transaction_id})`);
      for (const entry of transaction.entries) this.print(this.entryLine(entry));
    }
  }

  private entryLine(entry: LedgerTransaction['entries'][number]): string {
    const amount = money(entry.amount, entry.currency, { signed: true }).padStart(amountWidth);
    const after = entry.balance_after === null ? '' : `balance after ${money(entry.balance_after, entry.currency)}`;
    const name = this.accountNames.get(entry.account_id);
    const note = [after, name === undefined ? '' : `(${name})`].filter((part) => part !== '').join('  ');
    return `  ${''.padEnd(labelWidth)}${entry.account_id.padEnd(accountWidth)}${amount}  ${note}`.trimEnd();
  }

  webhooks(events: readonly ReceivedEvent[]): void {
    for (const event of events) {
      this.fact('webhook received', `${event.type.padEnd(26)}${event.id}  signature verified`);
    }
  }

  line(text: string): void {
    this.print(text);
  }
}

/** The Temporal Web UI page of a workflow, or its id alone when no UI is known. */
export function workflowLink(webUiUrl: string | undefined, namespace: string, workflowId: string): string {
  if (!webUiUrl) return `workflow ${workflowId}`;
  const base = webUiUrl.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
