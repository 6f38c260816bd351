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
            var series = latencyPlot.Add.Scatter(points.Select(r => r.CommandsPerSecond).ToArray(), points.Select(r => r.Latency.P50).ToArray());
            series.LegendText = $"{group.Key} validators";
            foreach (var point in points)
            {
                var label = latencyPlot.Add.Text($"block {point.Settings.Batch}", point.CommandsPerSecond, point.Latency.P50);
                label.LabelFontSize = 10;
            }
        }

        latencyPlot.Title("Committed commands/s against p50 submit-to-commit latency");
        latencyPlot.XLabel("committed commands/s");
        latencyPlot.YLabel("p50 latency (ms)");
        latencyPlot.ShowLegend();
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

            scalingPlot.Title("Committed commands/s by number of validators");
            scalingPlot.XLabel("validators");
            scalingPlot.YLabel("committed commands/s");
            scalingPlot.ShowLegend();
            written.Add(Save(scalingPlot, directory, "throughput-validators.png"));
        }

        return written;
    }

    private static string Save(Plot plot, string directory, string name)
    {
        var path = Path.Combine(directory, name);
        plot.SavePng(path, 900, 600);
        return path;
    }
}
