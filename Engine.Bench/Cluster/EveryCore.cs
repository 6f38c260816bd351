using System.Diagnostics;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>Runs one piece of work over and over on a thread per core, as the machine's own ceiling for it.</summary>
internal static class EveryCore
{
    /// <summary>How many times per second all cores together did <paramref name="work"/> during <paramref name="duration"/>.</summary>
    public static double RatePerSecond(TimeSpan duration, Action work)
    {
        var counts = new long[Environment.ProcessorCount];
        var clock = Stopwatch.StartNew();
        var threads = counts.Select((_, i) => new Thread(() =>
        {
            while (clock.Elapsed < duration)
            {
                work();
                counts[i]++;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return counts.Sum() / clock.Elapsed.TotalSeconds;
    }
}
