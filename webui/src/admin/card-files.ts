// Card batches as files for card shops, byte for byte what `chatctl cards generate|export --format`
// prints: txt one code per line; csv with the header `code,questions,days,batch,redeem_before`;
// json an array of objects with those keys (two-space indent). Batch names cannot hold commas,
// quotes or line breaks (the daemon refuses them), so csv needs no quoting.

export type CardFormat = 'csv' | 'txt' | 'json';
export const CARD_FORMATS: CardFormat[] = ['csv', 'txt', 'json'];

export interface CardRecord {
  code: string;
  questions: number;
  days: number;
  batch: string;
  /** Unix seconds, or null when the card can be redeemed at any time. */
  redeem_before: number | null;
}

export const CARD_MIME: Record<CardFormat, string> = {
  csv: 'text/csv;charset=utf-8',
  txt: 'text/plain;charset=utf-8',
  json: 'application/json',
};

export function cardFile(cards: CardRecord[], format: CardFormat): string {
  if (format === 'txt') return cards.map((c) => `${c.code}\n`).join('');
  if (format === 'csv') {
    const rows = cards.map((c) => `${c.code},${c.questions},${c.days},${c.batch},${c.redeem_before ?? ''}\n`);
    return `code,questions,days,batch,redeem_before\n${rows.join('')}`;
  }
  const rows = cards.map(({ code, questions, days, batch, redeem_before }) => ({
    code,
    questions,
    days,
    batch,
    redeem_before,
  }));
  return `${JSON.stringify(rows, null, 2)}\n`;
}

export function cardBlob(cards: CardRecord[], format: CardFormat): Blob {
  return new Blob([cardFile(cards, format)], { type: CARD_MIME[format] });
}

/** A file name that is safe on every system, from the batch name. */
export function cardFileName(batch: string, format: CardFormat): string {
  const base = batch.replace(/[^\p{L}\p{N}._-]+/gu, '_') || 'cards';
  return `${base}.${format}`;
}
