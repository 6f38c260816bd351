using Spectre.Console;

namespace IdOS.Akka.Engine.Cli;

/// <summary>`status --watch` on a terminal: the report redrawn in place in a frame whose colour says whether the node answered and is healthy.</summary>
internal static class LiveStatus
{
    public static async Task Watch(Func<Task<(string Report, bool Answered)>> read, TimeSpan interval, CancellationToken stop)
    {
        var first = await read();
        await AnsiConsole.Live(Frame(first)).AutoClear(false).StartAsync(async context =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(interval, stop);
                context.UpdateTarget(Frame(await read()));
            }
        });
    }

    private static Panel Frame((string Report, bool Answered) state)
    {
        var healthy = state.Answered && state.Report.Contains("health: healthy", StringComparison.Ordinal);
        return new Panel(new Text(state.Report.TrimEnd('\n')))
        {
            Header = new PanelHeader($" {DateTime.Now:HH:mm:ss}  every refresh until Ctrl-C "),
            Border = BoxBorder.Rounded,
            BorderStyle = new Style(healthy ? Color.Green : state.Answered ? Color.Yellow : Color.Red),
        };
    }
}
