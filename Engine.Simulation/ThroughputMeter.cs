namespace IdOS.Akka.Engine.Simulation;

/// <summary>What a world's chain made of its rounds and its time, from one validator's commits after a warm-up.</summary>
public sealed record ThroughputFigures(long Blocks, long Rounds, long SkippedRounds, long TimeMs, long LostTimeMs, int Crashes)
{
    /// <summary>Committed blocks per round: 1 on a healthy chain, where every round's block is committed.</summary>
    public double BlocksPerRound => Rounds == 0 ? 1 : (double)Blocks / Rounds;

    /// <summary>The share of time spent between commits that skipped rounds: 1 minus throughput relative to a chain without those gaps.</summary>
    public double LostTimeShare => TimeMs == 0 ? 0 : (double)LostTimeMs / TimeMs;

    public override string ToString() =>
        $"{Blocks} blocks in {Rounds} rounds ({SkippedRounds} skipped, {BlocksPerRound:F4} blocks/round), {LostTimeMs} of {TimeMs} ms lost ({LostTimeShare:P1}), {Crashes} crashes";
}

/// <summary>
/// Follows the chain one validator that never crashes commits. A round without a committed block is skipped: its leader
/// was down, or the QC of the round before it was lost with the next leader. Time is the blocks' timestamps (when they
/// were proposed; commits come in bursts after a gap): the time between two blocks with skipped rounds between them is
/// lost, the rest is what the chain does when every leader is up.
/// </summary>
public sealed class ThroughputMeter(long fromHeight)
{
    private long _firstRound = -1;
    private long _firstTime;
    private long _lastRound;
    private long _lastTime;
    private long _blocks;
    private long _skipped;
    private long _lostTime;

    public int Crashes { get; set; }

    public void OnCommit(long height, long round, long timestamp)
    {
        if (height < fromHeight)
        {
            return;
        }

        if (_firstRound < 0)
        {
            (_firstRound, _firstTime, _lastRound, _lastTime) = (round, timestamp, round, timestamp);
            return;
        }

        _blocks++;
        if (round > _lastRound + 1)
        {
            _skipped += round - _lastRound - 1;
            _lostTime += timestamp - _lastTime;
        }

        (_lastRound, _lastTime) = (round, timestamp);
    }

    public ThroughputFigures? Figures => _firstRound < 0 ? null
        : new ThroughputFigures(_blocks, _lastRound - _firstRound, _skipped, _lastTime - _firstTime, _lostTime, Crashes);
}
