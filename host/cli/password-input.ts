// Reads a password without it ever appearing on a command line (where `ps`
// and shell history would show it): from stdin when piped, or a hidden prompt.
import { createInterface } from 'node:readline';

export async function readPassword(opts: { stdin: boolean; prompt?: string }): Promise<string> {
  if (opts.stdin || !process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const line = text.split(/\r?\n/)[0] ?? '';
    if (!line) throw new Error('no password on standard input');
    return line;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const prompt = opts.prompt ?? 'Password: ';
  // Mute the echo: readline writes typed characters through _writeToOutput.
  const rli = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WritableStream };
  let prompting = true;
  rli._writeToOutput = (s: string) => {
    if (prompting) rli.output.write(s);
  };
  return new Promise((resolve) => {
    rl.question(prompt, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    prompting = false;
  });
}
