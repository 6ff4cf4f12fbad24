/**
 * The child process that splits a voice and self-checks its parts (voice-graph.ts): it
 * takes one job from its parent, answers with how the voice is to run, and exits, so that
 * the memory the work took leaves with it.
 */
import { type SplitAndCheck, splitAndCheck } from "./voice-graph.js";

process.once("message", (job: SplitAndCheck) => {
  void splitAndCheck(job).then((prepared) => process.send!(prepared, () => process.exit(0)));
});
