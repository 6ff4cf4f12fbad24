/** A one-line progress bar on a terminal; silent when stderr is not a TTY (logs, CI). */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): (file: string, done: number, total: number | undefined) => void {
  if (!stream.isTTY) return () => undefined;
  return (file, done, total) => {
    const mb = (n: number) => (n / 1_048_576).toFixed(1);
    const name = file.split("/").pop();
    if (total) {
      const width = 30;
      const filled = Math.round((done / total) * width);
      stream.write(`\r${name} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${mb(done)}/${mb(total)} MB`);
    } else {
      stream.write(`\r${name} ${mb(done)} MB`);
    }
    if (total && done >= total) stream.write("\n");
  };
}
