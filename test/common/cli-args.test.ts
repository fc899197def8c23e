/** tools/common/cli-args.ts: how a command's main ends the process. (tokenProblems: test/offline/plan-cli.test.ts) */
import { runMain, wantsHelp } from "../../tools/common/cli-args";

describe("runMain", () => {
  const previous = process.exitCode;
  afterEach(() => {
    process.exitCode = previous;
    jest.restoreAllMocks();
  });

  it("sets the exit code that main returns", async () => {
    await runMain(() => Promise.resolve(3));
    expect(process.exitCode).toBe(3);
  });

  it("prints an unexpected error with its stack and exits 1", async () => {
    const printed = jest.spyOn(console, "error").mockImplementation(() => undefined);
    await runMain(() => Promise.reject(new Error("boom")));
    expect(process.exitCode).toBe(1);
    expect(printed).toHaveBeenCalledWith(expect.stringMatching(/^Error: boom\n\s+at /));
  });

  it("prints the usage for --help or -h, anywhere on the line, and exits 0 without running main", async () => {
    const printed = jest.spyOn(console, "log").mockImplementation(() => undefined);
    const main = jest.fn(() => Promise.resolve(2));

    await runMain(main, "usage: x", ["--bogus", "--help"]);
    expect(process.exitCode).toBe(0);
    await runMain(main, "usage: x", ["-h"]);

    expect(printed.mock.calls).toEqual([["usage: x"], ["usage: x"]]);
    expect(main).not.toHaveBeenCalled();
    expect(wantsHelp(["--stack", "prod"])).toBe(false);
  });

  it("runs main when there is no usage to print, --help or not", async () => {
    await runMain(() => Promise.resolve(2), undefined, ["--help"]);
    expect(process.exitCode).toBe(2);
  });

  it("prints a thrown non-error as text", async () => {
    const printed = jest.spyOn(console, "error").mockImplementation(() => undefined);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the case under test
    await runMain(() => Promise.reject("plain"));
    expect(printed).toHaveBeenCalledWith("plain");
    expect(process.exitCode).toBe(1);
  });
});
