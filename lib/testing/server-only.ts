// vitest stands in for Next here: server modules import "server-only", which only the browser bundle must refuse.
export {};
