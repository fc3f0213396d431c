// Both languages say everything, with the same placeholders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MESSAGES, pickLanguage, t } from '../src/i18n.js';

const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('every message exists in both languages with the same placeholders', () => {
  assert.deepEqual(Object.keys(MESSAGES.zh).sort(), Object.keys(MESSAGES.en).sort());
  for (const [key, en] of Object.entries(MESSAGES.en)) {
    assert.deepEqual(holes(MESSAGES.zh[key]), holes(en), key);
    if (key !== 'listSep') assert.notEqual(MESSAGES.zh[key], en, `${key} is not translated`);
  }
});

test('the language follows what was chosen, then the browser', () => {
  assert.equal(pickLanguage(null, ['zh-CN', 'en']), 'zh');
  assert.equal(pickLanguage(null, ['en-GB', 'zh-CN']), 'en');
  assert.equal(pickLanguage('zh', ['en']), 'zh');
  assert.equal(pickLanguage('xx', ['fr']), 'en');
  assert.equal(t('zh', 'phase', { phase: t('zh', 'phase-voting') }), '状态：投票进行中。');
});
