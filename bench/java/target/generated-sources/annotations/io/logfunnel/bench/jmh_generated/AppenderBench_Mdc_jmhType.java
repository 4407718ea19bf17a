package io.logfunnel.bench.jmh_generated;
public class AppenderBench_Mdc_jmhType extends AppenderBench_Mdc_jmhType_B3 {
}

