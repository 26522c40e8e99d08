"""Where a build's per-image work runs: one module per executor, and what they return.

- `base`: the `BatchExecutor` interface every executor has (`map`, `map_async`, `start`,
  `close`) and the machine's worker cap;
- `inprocess`, `thread`, `pool`, `ray_actors`: the executors (this process, one background
  thread, a process pool, Ray actors); `images.make_executor` picks one from the options;
- `image_tasks`: the per-image work a worker runs (draw, judge, embed, describe);
- `images`: that work on any executor (`ImageWorkers`);
- `render_ahead` and `draw_ahead`: wrappers that start the next batch before this one is
  recorded (the procedural renderer's jobs on the pool; a diffusion model on a thread);
- `batch`: `BatchResult`, what a batch's drawing produced, which the critique and dedup
  nodes take as input;
- `ray_generator`: a diffusion backend drawn by Ray actors, one per GPU.

Nothing here writes the manifest: the driver keeps it, the one record of truth.
"""
