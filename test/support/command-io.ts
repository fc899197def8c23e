/** What an offline command (tools/offline/commands.ts) printed, captured for a test. */
import type { CommandIo } from "../../tools/offline/commands";

export function captureIo(): { io: CommandIo; stdout: () => string; stderr: () => string } {
  let stdout = "";
  let stderr = "";
  return {
    io: {
      out: (text) => {
        stdout += text;
      },
      err: (text) => {
        stderr += text;
      },
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}
