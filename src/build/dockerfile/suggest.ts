// "(did you mean RUN?)": BuildKit's hint after an unknown instruction, mount type or mount key,
// the closest of the known words within a Levenshtein distance of 2, in the case it was written.

/** `message` with BuildKit's suggestion appended when a known word is close to `value`. */
export function withSuggestion(message: string, value: string, options: string[], caseSensitive: boolean): string {
  const val = caseSensitive ? value : value.toLowerCase();
  let match = '';
  let best = 3;
  for (const option of options) {
    const opt = caseSensitive ? option : option.toLowerCase();
    if (val === opt) return message;
    const d = levenshtein(val, opt);
    if (d < best) {
      best = d;
      match = caseSensitive ? opt : matchCase(opt, value);
    }
  }
  return match === '' ? message : `${message} (did you mean ${match}?)`;
}

function matchCase(word: string, as: string): string {
  if (as === as.toLowerCase()) return word.toLowerCase();
  if (as === as.toUpperCase()) return word.toUpperCase();
  return word;
}

function levenshtein(a: string, b: string): number {
  const s = Array.from(a);
  const t = Array.from(b);
  let prev = Array.from({ length: t.length + 1 }, (_, i) => i);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[t.length];
}
