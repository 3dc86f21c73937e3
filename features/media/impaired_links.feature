@media
Feature: Impairment applied to the real datagrams is measured back exactly
  The link model delays and drops the UDP datagrams webrtc-rs sends; the analyzers must
  report what was injected, no more and no less.

  Scenario: 150 ms of one-way delay shows as 150 ms of added latency
    Given a media session with alice and bob
    When alice calls bob with video
    And bob accepts
    And media flows for 2 s
    And the baseline is recorded
    And the link from alice to bob has 150 ms delay
    And media flows for 1 s
    And the measurements restart
    And media flows for 3 s
    Then the median video latency from alice to bob exceeds the baseline by 150 ± 5 ms
    And the median audio latency from alice to bob exceeds the baseline by 150 ± 5 ms
    And the median audio latency from bob to alice exceeds the baseline by 0 ± 5 ms

  Scenario: 5% random loss shows as 5% packet loss
    Given a media session with alice and bob
    And the link from alice to bob has 5% loss
    When alice calls bob with audio
    And bob accepts
    And media flows for 1 s
    And the measurements restart
    And media flows for 15 s
    Then the packet loss from alice to bob is 5% ± 1.5%
    And the packet loss from bob to alice is 0% ± 0.1%
    And bob hears alice's tone
