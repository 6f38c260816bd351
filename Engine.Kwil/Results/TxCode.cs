namespace IdOS.Akka.Engine.Kwil.Results;

/// <summary>Kwil's transaction result codes plus ours for refused actions (100 + <see cref="ActionError"/>).</summary>
public static class TxCode
{
    public const int Ok = 0;
    public const int Encoding = 1;
    public const int InvalidTransactionType = 2;
    public const int InvalidSignature = 3;
    public const int InvalidNonce = 4;
    public const int WrongChain = 5;

    public static int ForAction(ActionError error) => 100 + (int)error;
}
