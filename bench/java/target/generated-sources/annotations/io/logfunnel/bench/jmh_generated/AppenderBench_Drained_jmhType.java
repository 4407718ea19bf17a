package io.logfunnel.bench.jmh_generated;
public class AppenderBench_Drained_jmhType extends AppenderBench_Drained_jmhType_B3 {
}

