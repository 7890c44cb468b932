// The plain accessibility assertions (tests/e2e/checks.py): a list of problems, empty when
// the page is fine. Evaluated in the page by Playwright.
() => {
  const problems = [];
  const lang = document.documentElement.getAttribute('lang');
  if (lang !== 'zh-CN') problems.push(`<html lang> is ${lang}, not zh-CN`);
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(`${h1} h1 elements, not one`);
  let last = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const level = Number(h.tagName[1]);
    if (level > last + 1) problems.push(`${h.tagName} "${h.textContent.trim()}" after h${last}`);
    last = level;
  }
  const skip = new Set(['hidden', 'submit', 'button', 'reset', 'image']);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (skip.has(el.type)) continue;
    const labelled = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby') || el.getAttribute('title');
    if (!labelled) problems.push(`${el.tagName.toLowerCase()} ${el.id || el.name} has no label`);
  }
  const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const rgba = (text) => (text.match(/[\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const texts = [...document.querySelectorAll(
    'main p, main li, main label, main td, main th, main dd, main dt, main legend, main a, main h1, main h2, main button')]
    .filter(el => el.offsetParent !== null && el.textContent.trim()).slice(0, 200);
  for (const el of texts) {
    const style = getComputedStyle(el);
    const fg = rgba(style.color), bg = background(el);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) {
      problems.push(`contrast ${ratio.toFixed(2)} < ${needed} for ${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}"`);
    }
    if (['P', 'LI', 'LABEL', 'DD', 'TD'].includes(el.tagName)) {
      const lineHeight = style.lineHeight === 'normal' ? 1.2 * size : parseFloat(style.lineHeight);
      if (lineHeight / size < 1.3 - 1e-6) {
        problems.push(`line height ${(lineHeight / size).toFixed(2)} < 1.3 for ${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}"`);
      }
    }
  }
  if (!document.querySelector('main')) problems.push('no <main> landmark');
  return [...new Set(problems)];
}
