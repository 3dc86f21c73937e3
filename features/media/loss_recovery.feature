@media
Feature: Lost video is repaired like real stacks repair it
  By default the reference media path negotiates NACK with RTX retransmission and PLI, as
  browsers do: the receiver asks again for what the link dropped and, when a frame cannot be
  had in time, for a key frame. The report keeps both figures apart: the loss the link
  applied and the loss left after recovery.

  Scenario: 5% loss and 150 ms each way are repaired within two round trips
    Given a media session with alice and bob
    And both links between alice and bob have 150 ms delay, 5% loss
    When alice calls bob with video
    And bob accepts
    And media flows for 1 s
    And the measurements restart
    And media flows for 10 s
    Then the packet loss from alice to bob is 5% ± 1.5%
    And the residual video loss from alice to bob is at most 1%
    And the median video PSNR from alice to bob is at least 30 dB
    And the p95 video latency from alice to bob is at most 800 ms

  Scenario: without recovery the loss the link applied stays lost
    Given a media session without loss recovery with alice and bob
    And the link from alice to bob has 150 ms delay, 5% loss
    When alice calls bob with video
    And bob accepts
    And media flows for 1 s
    And the measurements restart
    And media flows for 10 s
    Then the packet loss from alice to bob is 5% ± 1.5%
    And the residual loss from alice to bob is at most 6.5%
