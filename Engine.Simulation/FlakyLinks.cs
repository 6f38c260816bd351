namespace IdOS.Akka.Engine.Simulation;

/// <summary>
/// The outbound links of one instance, each going down and up on its own schedule: what a validator behind a failing
/// switch port or an overloaded proxy looks like. Its proposals and votes reach some validators and not others, so
/// certificates reach only part of the network and validators end up in different rounds, which is what round
/// synchronisation has to repair. Link states are drawn lazily, when a message takes the link, so the draws follow the
/// order of sends and a seed still replays exactly.
/// </summary>
internal sealed class FlakyLinks(SimRandom rng, int instance, long maxDownMs, long maxUpMs)
{
    private readonly Dictionary<int, (bool Down, long Until)> _links = [];

    public int Instance { get; } = instance;

    public bool Drops(int from, int to, long now)
    {
        if (from != Instance)
        {
            return false;
        }

        var (down, until) = _links.TryGetValue(to, out var link) ? link : (false, rng.Between(0, maxUpMs));
        while (until <= now)
        {
            down = !down;
            until += down ? rng.Between(maxDownMs / 4, maxDownMs) : rng.Between(maxUpMs / 4, maxUpMs);
        }

        _links[to] = (down, until);
        return down;
    }
}
