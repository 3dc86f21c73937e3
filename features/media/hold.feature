@media
Feature: Hold pauses media both ways, unhold brings it back quickly
  Scenario: bob holds a video call and resumes it
    Given a media session with alice and bob
    When alice calls bob with video
    And bob accepts
    Then alice receives bob's video within 1500 ms
    When bob puts the call on hold
    Then alice receives no video from bob for 500 ms
    And bob receives no audio from alice for 500 ms
    And alice's tracks are:
      | owner | kind  | local | state |
      | alice | audio | yes   | live  |
      | alice | video | yes   | live  |
      | bob   | audio | no    | held  |
      | bob   | video | no    | held  |
    When bob resumes the call
    Then bob's video reaches alice again within 500 ms
    And alice's audio reaches bob again within 300 ms
