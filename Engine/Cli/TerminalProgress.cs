using Spectre.Console;

namespace IdOS.Akka.Engine.Cli;

/// <summary>
/// A bar for long work whose length is known roughly (a benchmark run's warm-up and measured window), drawn only when
/// the output is the terminal; in a pipe or a file, or for a caller that passed its own writer, nothing is drawn.
/// </summary>
public static class TerminalProgress
{
    public static bool IsTerminal(TextWriter output) => ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;

    /// <summary>Runs <paramref name="work"/>, with a bar that fills over <paramref name="expected"/> and stays short of full until the work ends.</summary>
    public static async Task<T> Track<T>(TextWriter output, string label, TimeSpan expected, Func<Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!IsTerminal(output))
        {
            return await work();
        }

        return await AnsiConsole.Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var bar = context.AddTask(label, maxValue: Math.Max(1, expected.TotalSeconds));
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var running = work();
                while (!running.IsCompleted)
                {
                    await Task.WhenAny(running, Task.Delay(250));
                    bar.Value = Math.Min(clock.Elapsed.TotalSeconds, bar.MaxValue * 0.99);
                }

                bar.Value = bar.MaxValue;
                return await running;
            });
    }
}
