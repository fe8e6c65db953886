// Everything the action prints, and the secrets it must never print. Every log line, debug
// line, annotation, failure message and output goes through here: first every spelling of
// every secret is removed (errors.ts redact), then, for what a person reads, bidi controls are
// made visible and no line is left that the runner would run as a workflow command.
import * as core from '@actions/core';
import { redact } from './errors.ts';

const registered: string[] = [];

/** Masks a secret in the runner's log and adds it to the redactor. Call it before anything can print the value. */
export function addSecret(value: string | undefined): void {
  if (!value || registered.includes(value)) return;
  core.setSecret(value);
  registered.push(value);
}

/** Every secret registered so far. */
export const secrets = (): readonly string[] => registered;

/** The text without any registered secret, in any spelling the redactor knows. */
export const redactSecrets = (text: string): string => redact(text, registered);

/**
 * The parts of a URL input that may hold a secret: its userinfo (whole, user and password), its
 * query (whole, and each value) and its fragment, as typed and percent-decoded. Read as text, so a
 * value the URL parser refuses is covered too. Parts shorter than 4 characters are left out: the
 * runner would mask every occurrence of them in the log.
 */
export function urlSecrets(value: string): string[] {
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:([^/?#\\]*)@)?[^?#]*(?:\?([^#]*))?(?:#(.*))?$/is.exec(value.trim());
  if (!m) return [];
  const [, userinfo, query, fragment] = m;
  const parts: string[] = [];
  if (userinfo) {
    const colon = userinfo.indexOf(':');
    parts.push(userinfo, ...(colon < 0 ? [] : [userinfo.slice(0, colon), userinfo.slice(colon + 1)]));
  }
  if (query) parts.push(query, ...query.split('&').map((pair) => pair.slice(pair.indexOf('=') + 1)));
  if (fragment) parts.push(fragment);
  const decoded = parts.map((p) => {
    try {
      return decodeURIComponent(p.replace(/\+/g, ' '));
    } catch {
      return p;
    }
  });
  return [...new Set([...parts, ...decoded])].filter((p) => p.length >= 4);
}

// Bidirectional controls reorder what a person reads (a file name that hides its real extension).
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const codePoint = (c: string) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

/** Each bidi control as its visible name, e.g. <U+202E>; `html` escapes the brackets for markdown and HTML. */
export function escapeBidi(text: string, html = false): string {
  return text.replace(BIDI, (c) => (html ? `&#60;${codePoint(c)}&#62;` : `<${codePoint(c)}>`));
}

/**
 * No line may start a workflow command: the runner reads any line whose first non-blank
 * characters are "::" as one (it trims leading whitespace, so a space in front is not enough), and
 * "##[" anywhere in a line as the legacy form. Such lines get a visible backslash in front of the
 * "::", and "##[" becomes "##\[". The runner breaks lines at \r as well as \n.
 */
export function neutralizeCommands(text: string): string {
  return text
    .split(/(\r\n|\r|\n)/)
    .map((part) => part.replace(/^([\s\u0085]*)::/, '$1\\::').replaceAll('##[', '##\\['))
    .join('');
}

/** What any printed text goes through: secrets out, bidi controls visible, no workflow commands. */
export const clean = (text: string): string => neutralizeCommands(escapeBidi(redactSecrets(text)));

function cleanProps(props: core.AnnotationProperties | undefined): core.AnnotationProperties | undefined {
  if (!props) return undefined;
  return {
    ...props,
    ...(props.title === undefined ? {} : { title: clean(props.title) }),
    ...(props.file ? { file: clean(props.file) } : {}),
  };
}

export const info = (message: string): void => core.info(clean(message));
export const debug = (message: string): void => core.debug(clean(message));
export const warning = (message: string, props?: core.AnnotationProperties): void => core.warning(clean(message), cleanProps(props));
export const notice = (message: string, props?: core.AnnotationProperties): void => core.notice(clean(message), cleanProps(props));
export const error = (message: string, props?: core.AnnotationProperties): void => core.error(clean(message), cleanProps(props));
export const setFailed = (message: string): void => core.setFailed(clean(message));

/** Outputs are data for later steps: redacted, otherwise as they are ($GITHUB_OUTPUT cannot carry a command). */
export const setOutput = (name: string, value: string): void => core.setOutput(name, redactSecrets(value));
