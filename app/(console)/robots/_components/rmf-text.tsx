import { Fragment } from "react";

/**
 * RMF writes references into its human-readable texts as `[kind:name]` ("Go to [place:pantry]",
 * "Open [door:main_door]"). Shown raw they read as markup; here each becomes the name, marked
 * up with its kind so a reader sees "Go to pantry" with the place set apart.
 */
const REF = /\[([a-z_]+):([^\]\n]{1,200})\]/g;

export const RmfText = ({ text }: { text: string }) => {
  const parts: React.ReactNode[] = [];
  let last = 0;
  for (const m of text.matchAll(REF)) {
    const at = m.index ?? 0;
    if (at > last) parts.push(text.slice(last, at));
    parts.push(
      <span key={at} className="rmf-ref" data-kind={m[1]} title={m[1]}>
        {m[2]}
      </span>,
    );
    last = at + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return <Fragment>{parts}</Fragment>;
};

/** The same text without the markup, for places that take a string (titles, filters). */
export const rmfPlain = (text: string) => text.replace(REF, "$2");
