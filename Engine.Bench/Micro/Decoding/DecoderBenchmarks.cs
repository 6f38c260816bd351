using BenchmarkDotNet.Attributes;
using IdOS.Akka.Engine.Kwil.Auth;

namespace IdOS.Akka.Engine.Bench.Micro.Decoding;

/// <summary>
/// Decoders of fields a transaction or a peer controls, fed a valid value and a hostile one of 1 MiB (the largest a
/// transaction may carry): every decoder checks the length against the field's bound before any work, so the hostile
/// input must cost no more than the valid one. A NEAR wallet's `ed25519:&lt;base58&gt;` public key from `add_wallet`
/// is the case that was quadratic: base58 decoding is, in the length of the text.
/// </summary>
public class DecoderBenchmarks
{
    private const int Hostile = 1 << 20;
    private string _validNearKey = null!;
    private string _hostileNearKey = null!;

    [GlobalSetup]
    public void Setup()
    {
        _validNearKey = Nep413.KeyName(Enumerable.Repeat((byte)0xA5, 32).ToArray());
        _hostileNearKey = "ed25519:" + new string('z', Hostile - 8);
    }

    [Benchmark(Baseline = true)]
    public byte[]? NearKeyValid() => Nep413.ParseKeyName(_validNearKey);

    [Benchmark]
    public byte[]? NearKeyHostile1MiB() => Nep413.ParseKeyName(_hostileNearKey);
}
