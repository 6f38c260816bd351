using System.Globalization;

namespace IdOS.Akka.Engine.Faults;

/// <summary>
/// What happens to the bytes one node sends another through the fault proxies. A cut link resets its connections
/// and refuses new ones (a firewall's REJECT); a swallowing link keeps its connections open and drops every byte (a
/// link that loses every packet: the sender learns nothing until its failure detector does); a delay holds each
/// chunk that long before passing it on, in order.
/// </summary>
public sealed record LinkRule(bool Cut = false, bool Swallow = false, TimeSpan Delay = default)
{
    public static readonly LinkRule Pass = new();

    public static readonly LinkRule Cutting = new(Cut: true);

    public static readonly LinkRule Swallowing = new(Swallow: true);

    public static LinkRule Delaying(TimeSpan delay) => new(Delay: delay);

    public override string ToString() =>
        Cut ? "cut" : Swallow ? "swallowed" : Delay > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $"delayed {Delay.TotalMilliseconds:0} ms") : "pass";
}

/// <summary>
/// The rules of every directed link between the nodes behind the proxies, changed by a test or a benchmark while the
/// nodes run. A connection from anything that is not one of the nodes (a test's client, an RPC system) always passes.
/// </summary>
public sealed class LinkFaults(int nodes)
{
    private readonly LinkRule[,] _rules = Fill(nodes);
    private readonly Lock _gate = new();

    /// <summary>Raised after every change, so that the proxies close what a cut link or a heal makes stale.</summary>
    public event Action? Changed;

    public int Nodes { get; } = nodes;

    /// <summary>The rule for bytes from <paramref name="from"/> to <paramref name="to"/>; a side that is not a node (-1) passes.</summary>
    public LinkRule Rule(int from, int to)
    {
        if (from < 0 || to < 0 || from == to)
        {
            return LinkRule.Pass;
        }

        lock (_gate)
        {
            return _rules[from, to];
        }
    }

    /// <summary>Bytes from <paramref name="from"/> to <paramref name="to"/> follow <paramref name="rule"/>; the other direction is untouched.</summary>
    public void OneWay(int from, int to, LinkRule rule) => Apply(set => set(from, to, rule));

    /// <summary>Every link to and from <paramref name="node"/>, both directions.</summary>
    public void Isolate(int node, LinkRule rule) => Apply(set =>
    {
        foreach (var other in Others(node))
        {
            set(node, other, rule);
            set(other, node, rule);
        }
    });

    /// <summary>Every link from <paramref name="node"/> to the others; what they send it still arrives.</summary>
    public void Mute(int node, LinkRule rule) => Apply(set =>
    {
        foreach (var other in Others(node))
        {
            set(node, other, rule);
        }
    });

    /// <summary>Every link between <paramref name="side"/> and the rest, both directions; links within each side pass.</summary>
    public void Split(IReadOnlyCollection<int> side, LinkRule rule) => Apply(set =>
    {
        foreach (var inside in side)
        {
            foreach (var outside in Enumerable.Range(0, Nodes).Where(n => !side.Contains(n)))
            {
                set(inside, outside, rule);
                set(outside, inside, rule);
            }
        }
    });

    public void Heal() => Apply(set =>
    {
        for (var from = 0; from < Nodes; from++)
        {
            foreach (var to in Others(from))
            {
                set(from, to, LinkRule.Pass);
            }
        }
    });

    /// <summary>The links that do not pass, for logs and failure messages.</summary>
    public string Describe()
    {
        lock (_gate)
        {
            var faulty = new List<string>();
            for (var from = 0; from < Nodes; from++)
            {
                foreach (var to in Others(from).Where(to => _rules[from, to] != LinkRule.Pass))
                {
                    faulty.Add($"{from}->{to} {_rules[from, to]}");
                }
            }

            return faulty.Count == 0 ? "all links pass" : string.Join(", ", faulty);
        }
    }

    private IEnumerable<int> Others(int node) => Enumerable.Range(0, Nodes).Where(n => n != node);

    private void Apply(Action<Action<int, int, LinkRule>> change)
    {
        lock (_gate)
        {
            change((from, to, rule) =>
            {
                ArgumentOutOfRangeException.ThrowIfNegative(from);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(from, Nodes);
                ArgumentOutOfRangeException.ThrowIfNegative(to);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(to, Nodes);
                _rules[from, to] = rule;
            });
        }

        Changed?.Invoke();
    }

    private static LinkRule[,] Fill(int nodes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 1);
        var rules = new LinkRule[nodes, nodes];
        for (var from = 0; from < nodes; from++)
        {
            for (var to = 0; to < nodes; to++)
            {
                rules[from, to] = LinkRule.Pass;
            }
        }

        return rules;
    }
}
