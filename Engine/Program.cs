namespace IdOS.Akka.Engine; internal static class Program { private static int Main() => 0; }
