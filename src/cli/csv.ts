// The first record of a line of comma-separated values, read as Go's encoding/csv reads it
// (docker's CLI reads --network's advanced form and every `strings` flag with it): quoted fields
// with "" for a quote, and Go's ParseError words and 1-based byte columns when a quote is wrong.

const parseError = (col: number, what: string) => new Error(`parse error on line 1, column ${col}: ${what}`);
const BARE = 'bare " in non-quoted-field';
const QUOTE = 'extraneous or missing " in quoted-field';

/** The fields of the first record of `text` (a newline outside quotes ends it). */
export function csvRecord(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] !== '"') {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '\n') end++;
      const field = text.slice(i, end);
      const q = field.indexOf('"');
      if (q >= 0) throw parseError(i + q + 1, BARE);
      fields.push(field);
      i = end;
    } else {
      let field = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        // No closing quote: Go reports the column past the end of the line.
        if (q < 0) throw parseError(text.length + 1, QUOTE);
        field += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') {
          field += '"';
          i++;
          continue;
        }
        if (i < text.length && text[i] !== ',' && text[i] !== '\n') throw parseError(q + 1, QUOTE);
        break;
      }
      fields.push(field);
    }
    if (text[i] !== ',') return fields;
    i++;
  }
}

/** A pflag `strings` value: each given value split as one CSV record. */
export const csvList = (values: string[] | undefined): string[] => (values ?? []).flatMap(csvRecord);
