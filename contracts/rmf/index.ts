/**
 * The robots upstream's wire contract (Open-RMF api-server, rmf-web compatible): payload
 * models (models.ts), the room grammar (rooms.ts), socket.io control messages
 * (socketio.ts), REST bodies and answers (rest.ts), the `/_internal` fleet adapter feed
 * (internal.ts), the JWT claims and permissions (auth.ts), and Switchyard's bridge to RMF
 * itself (bridge.ts). Imported by main, proxy, simulator, the console connector and browser.
 */
export * from "./auth";
export * from "./bridge";
export * from "./internal";
export * from "./models";
export * from "./rest";
export * from "./rooms";
export * from "./socketio";
