// Display width of table cells: CJK, emoji sequences, combining and zero-width marks, and padding by it.
import { describe, expect, it } from 'vitest';
import { displayWidth, padToWidth } from './text-width.js';

describe('displayWidth', () => {
  it.each([
    ['', 0],
    ['Issue 1', 7],
    ['日本語', 6], // CJK ideographs: 2 each
    ['ｶﾀｶﾅ', 4], // halfwidth katakana: 1 each
    ['ＡＢ', 4], // fullwidth Latin
    ['한국어', 6], // Hangul syllables
    ['🎉', 2], // emoji presentation
    ['❤️', 2], // text-default symbol + VS16 -> emoji
    ['❤', 1], // the same symbol without VS16
    ['👩‍💻', 2], // ZWJ sequence: one grapheme
    ['👍🏽', 2], // skin-tone modifier
    ['🇫🇷', 2], // regional-indicator flag
    ['e\u0301', 1], // e + combining acute
    ['\u0301', 0], // a lone combining mark
    ['a\u200bb', 2], // zero-width space
    ['café', 4],
    ['Ω≈ç', 3],
    ['日本語のタイトル 🎉', 19],
  ])('%j is %i columns', (text, width) => {
    expect(displayWidth(text)).toBe(width);
  });

  it('padToWidth pads to the display width and never cuts', () => {
    expect(padToWidth('日本', 6)).toBe('日本  ');
    expect(padToWidth('abc', 2)).toBe('abc');
  });
});
