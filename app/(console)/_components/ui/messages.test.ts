import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { errorMessage, formErrors, humanizeMessage } from "./messages";

/** A BAD_REQUEST as the browser receives it from server/trpc/init.ts's error formatter. */
const badRequest = (fields: { path: string; message: string }[]) =>
  TRPCClientError.from({ error: { message: JSON.stringify(fields), code: -32600, data: { code: "BAD_REQUEST", httpStatus: 400, fields } } });

const forbidden = TRPCClientError.from({ error: { message: "Your role (viewer) may not do this (audit.read).", code: -32003, data: { code: "FORBIDDEN", httpStatus: 403, fields: null } } });

/** zod's own message for `value` against `schema`. */
const zodMessage = (schema: z.ZodType, value: unknown) => schema.safeParse(value).error!.issues[0]!.message;

describe("humanizeMessage", () => {
  it("turns zod's defaults into sentences", () => {
    expect(humanizeMessage(zodMessage(z.string(), undefined), "Name")).toBe("Name is required.");
    expect(humanizeMessage(zodMessage(z.string().min(1), ""), "Id tag")).toBe("Id tag is required.");
    expect(humanizeMessage(zodMessage(z.string().min(10), "short"))).toBe("Use at least 10 characters.");
    expect(humanizeMessage(zodMessage(z.string().max(3), "long"))).toBe("Use at most 3 characters.");
    expect(humanizeMessage(zodMessage(z.number().int(), 1.5))).toBe("Enter a whole number.");
    expect(humanizeMessage(zodMessage(z.number(), Number.NaN))).toBe("Enter a number.");
    expect(humanizeMessage(zodMessage(z.number().max(1000), 5000))).toBe("Enter 1000 or less.");
    expect(humanizeMessage(zodMessage(z.number().min(1), 0))).toBe("Enter 1 or more.");
    expect(humanizeMessage(zodMessage(z.email(), "nope"))).toBe("Enter a valid email address, like name@example.com.");
    expect(humanizeMessage(zodMessage(z.enum(["soft", "hard"]), "x"))).toBe("Choose one of: soft, hard.");
    expect(humanizeMessage(zodMessage(z.array(z.string()).min(1), []))).toBe("Choose at least one.");
    expect(humanizeMessage(zodMessage(z.uuid(), "1"), "Id")).toBe("Id is not in the expected format.");
    expect(humanizeMessage(zodMessage(z.date(), "x"))).toBe("Enter a valid date and time.");
  });

  it("never leaves a raw zod message behind", () => {
    const raw = ["Invalid input: expected string, received undefined", "Invalid input: expected boolean, received string", "Too small: expected array to have >=2 items"];
    for (const message of raw) expect(humanizeMessage(message)).not.toMatch(/Invalid input|expected|received|>=|<=/);
  });

  it("makes the server's short messages sentences", () => {
    expect(humanizeMessage("required", "Name")).toBe("Name is required.");
    expect(humanizeMessage("at least 10 characters")).toBe("Use at least 10 characters.");
    expect(humanizeMessage("not a valid email address")).toBe("Enter a valid email address, like name@example.com.");
    expect(humanizeMessage("'from' must be before 'to'")).toBe("“From” must be before “To”.");
    expect(humanizeMessage("pick at least one station")).toBe("Pick at least one station.");
    expect(humanizeMessage("A hard reset interrupts every session at the station; confirm it explicitly.")).toBe(
      "A hard reset interrupts every session at the station; confirm it explicitly.",
    );
  });
});

describe("formErrors", () => {
  it("puts each message on its field, with the field's label, and the rest above the form", () => {
    const error = badRequest([
      { path: "name", message: "Invalid input: expected string, received undefined" },
      { path: "regions.0", message: "Too small: expected string to have >=1 characters" },
      { path: "confirm", message: "confirm it explicitly" },
    ]);
    expect(formErrors(error, { name: "Name", regions: "Regions" })).toEqual({
      byField: { name: "Name is required.", regions: "Regions is required." },
      other: ["Confirm it explicitly."],
    });
  });

  it("takes the form's own checks first", () => {
    expect(formErrors(null, { email: "Email" }, { email: "Invalid email address" })).toEqual({ byField: { email: "Enter a valid email address, like name@example.com." }, other: [] });
  });

  it("shows an error without fields above the form, in words", () => {
    expect(formErrors(forbidden, { name: "Name" })).toEqual({ byField: {}, other: ["Your role may not do this. Ask an admin if you need it."] });
  });
});

describe("errorMessage", () => {
  it("never shows a permission code or a JSON dump", () => {
    expect(errorMessage(forbidden)).not.toMatch(/audit\.read|viewer/);
    expect(errorMessage(badRequest([{ path: "from", message: "'from' must be before 'to'" }]))).toBe("“From” must be before “To”.");
    expect(errorMessage(new Error("[{\"code\":\"custom\"}]"))).toBe("Something went wrong. Try again.");
  });

  it("says when the console cannot be reached", () => {
    expect(errorMessage(new TypeError("Failed to fetch"))).toBe("Could not reach the console. Check your connection and try again.");
  });
});
