using ScottPlot;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>The sweep's two pictures, as the HotStuff paper draws them: throughput against latency, and against validators.</summary>
internal static class SweepPlots
{
    public static IReadOnlyList<string> Draw(string directory, IReadOnlyList<ClusterResult> results)
    {
        var written = new List<string>();
        if (results.Count < 2)
        {
            return written;
        }

        var latencyPlot = new Plot();
        foreach (var group in results.GroupBy(r => r.Settings.Validators).OrderBy(g => g.Key))
        {
            var points = group.OrderBy(r => r.Settings.Batch).ToList();
            var series = latencyPlot.Add.Scatter(points.Select(r => r.CommandsPerSecond).ToArray(), points.Select(r => Log(r.Latency.P50)).ToArray());
            series.LegendText = $"{group.Key} validators";
            foreach (var point in points)
            {
                var label = latencyPlot.Add.Text($"block {point.Settings.Batch}", point.CommandsPerSecond, Log(point.Latency.P50));
                label.LabelFontSize = 10;
            }
        }

        // Latency spans milliseconds to tens of seconds across block sizes at one load, so its axis is logarithmic.
        latencyPlot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
        };
        latencyPlot.Title("Committed commands/s against p50 submit-to-commit latency");
        latencyPlot.XLabel("committed commands/s");
        latencyPlot.YLabel("p50 latency (ms, log scale)");
        latencyPlot.ShowLegend(Alignment.UpperRight);
        written.Add(Save(latencyPlot, directory, "throughput-latency.png"));

        if (results.Select(r => r.Settings.Validators).Distinct().Count() > 1)
        {
            var scalingPlot = new Plot();
            foreach (var group in results.GroupBy(r => r.Settings.Batch).OrderBy(g => g.Key))
            {
                var points = group.OrderBy(r => r.Settings.Validators).ToList();
                var series = scalingPlot.Add.Scatter(points.Select(r => (double)r.Settings.Validators).ToArray(), points.Select(r => r.CommandsPerSecond).ToArray());
                series.LegendText = $"block {group.Key}";
            }

            var counts = results.Select(r => r.Settings.Validators).Distinct().Order().ToArray();
            scalingPlot.Axes.Bottom.SetTicks([.. counts.Select(c => (double)c)], [.. counts.Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
            scalingPlot.Title("Committed commands/s by number of validators");
            scalingPlot.XLabel("validators");
            scalingPlot.YLabel("committed commands/s");
            scalingPlot.ShowLegend(Alignment.UpperRight);
            written.Add(Save(scalingPlot, directory, "throughput-validators.png"));
        }

        return written;
    }

    private static double Log(double milliseconds) => Math.Log10(Math.Max(milliseconds, 0.1));

    private static string Save(Plot plot, string directory, string name)
    {
        var path = Path.Combine(directory, name);
        plot.SavePng(path, 900, 600);
        return path;
    }
}
