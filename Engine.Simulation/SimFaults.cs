namespace IdOS.Akka.Engine.Simulation;

/// <summary>Crash faults: random crashes before GST, between steps or in the middle of one, and the flapping validator.</summary>
internal sealed class SimFaults(WorldConfig config, SimRandom rng, IReadOnlyList<SimInstance> instances, SimNetwork network, ThroughputMeter? meter,
    Func<long> now, Action<long, SimEvent> schedule, Action<SimInstance> restart, Action<string> trace)
{
    private readonly WorldConfig _config = config;
    private readonly SimRandom _rng = rng;
    private readonly IReadOnlyList<SimInstance> _instances = instances;
    private readonly SimNetwork _network = network;
    private readonly ThroughputMeter? _meter = meter;
    private readonly Func<long> _now = now;
    private readonly Action<long, SimEvent> _schedule = schedule;
    private readonly Action<SimInstance> _restart = restart;
    private readonly Action<string> _trace = trace;

    /// <summary>Before GST, a correct instance goes down now or in the middle of its next step, and comes back before GST.</summary>
    public void CrashSomeone()
    {
        if (_network.Healed)
        {
            return;
        }

        var candidates = _instances.Where(i => i.Replica is not null && i.Role == NodeRole.Correct).ToList();
        if (candidates.Count > 0)
        {
            var victim = _rng.Pick(candidates);
            var restartAt = Math.Min(_config.GstMs, _now() + _rng.Between(100, _config.MaxDowntimeMs));
            if (_rng.Chance(0.5))
            {
                _trace($"{victim} crashes");
                Crash(victim);
            }
            else
            {
                // Crash in the middle of the victim's next step: after some of its effects, before the rest.
                victim.CrashAfterEffects = _rng.Next(4);
            }

            _schedule(Math.Max(restartAt, _now() + 1), new SimEvent(EventKind.Restart, victim.Id));
        }

        _schedule(_now() + Math.Max(1, (long)_rng.Exponential(_config.CrashEveryMs)), new SimEvent(EventKind.Crash, -1));
    }

    /// <summary>The flapping validator goes down for good measure at any step, and comes back from its own storage.</summary>
    public void Flap(SimInstance instance)
    {
        if (instance.Replica is not null)
        {
            _trace($"{instance} goes down");
            Crash(instance);
            if (_meter is not null)
            {
                _meter.Crashes++;
            }
            _schedule(_now() + _config.FlapDownMs, new SimEvent(EventKind.Flap, instance.Id));
        }
        else
        {
            _restart(instance);
            _schedule(_now() + _config.FlapUpMs, new SimEvent(EventKind.Flap, instance.Id));
        }
    }

    public static void Crash(SimInstance instance)
    {
        instance.Replica = null;
        instance.CrashAfterEffects = null;
        instance.TimerGeneration++;
        SimExecution.Crash(instance);
    }
}
