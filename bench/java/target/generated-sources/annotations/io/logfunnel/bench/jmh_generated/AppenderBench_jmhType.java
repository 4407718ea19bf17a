package io.logfunnel.bench.jmh_generated;
public class AppenderBench_jmhType extends AppenderBench_jmhType_B3 {
}

